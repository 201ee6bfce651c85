"""Staff flows: uploading a product image and serving it back; adjusting stock with its ledger."""

import io

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def png_bytes(size=(12, 8), color=(200, 30, 30)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_an_image_then_anyone_can_fetch_it(admin, anonymous):
    uploaded = admin.post_file("/images/upload", "imageFile", "shoe.png", png_bytes(), "image/png")
    assert uploaded.status == 201, uploaded.text
    filename = uploaded.body["filename"]
    assert uploaded.body["imageUrl"].endswith(f"/images/images/{filename}")

    fetched = anonymous.raw("GET", f"/images/images/{filename}", None, {"Accept": "*/*"})
    assert fetched.status == 200
    assert fetched.headers.get("Content-Type", "").startswith("image/")
    from PIL import Image

    assert Image.open(io.BytesIO(fetched.content)).size == (12, 8)


def test_upload_refuses_anonymous_and_non_images(admin, anonymous):
    assert anonymous.post_file("/images/upload", "imageFile", "a.png", png_bytes(), "image/png").status == 401
    fake = admin.post_file("/images/upload", "imageFile", "fake.png", b"not an image at all", "image/png")
    assert fake.status == 400 and fake.body["message"]
    assert anonymous.get("/images/images/no-such-file.png").status == 404


def test_stock_adjustment_is_recorded_in_the_ledger(admin, anonymous, product):
    red = next(v for v in product["variants"] if v["attributes"]["color"] == "red")
    adjusted = admin.post(
        f"/products/stock/adjust/{red['id']}", {"changeQuantity": 7, "type": "ADJUSTMENT", "reason": "e2e recount"}
    )
    assert adjusted.status == 201, adjusted.text
    assert adjusted.body["newStockQuantity"] == 12
    below_zero = admin.post(f"/products/stock/adjust/{red['id']}", {"changeQuantity": -100, "type": "ADJUSTMENT"})
    assert below_zero.status == 400
    history = admin.get(f"/products/stock/history/{red['id']}")
    assert history.status == 200
    assert [(m["type"], m["changeQuantity"]) for m in history.body][:2] == [("ADJUSTMENT", 7), ("INITIAL_STOCK", 5)]
    assert (
        anonymous.post(f"/products/stock/adjust/{red['id']}", {"changeQuantity": 1, "type": "ADJUSTMENT"}).status == 401
    )
