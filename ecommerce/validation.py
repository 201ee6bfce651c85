def validated(serializer_class, data, **kwargs):
    """Validate ``data`` with a DRF serializer; invalid input raises the contract's 400."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
