from django.urls import path

from apps.auth.api import views

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("token/refresh", views.RefreshView.as_view(), name="auth-token-refresh"),
    path("validate", views.ValidateView.as_view(), name="auth-validate"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("users", views.UserListView.as_view(), name="auth-users"),
    path("users/<str:user_id>", views.UserDetailView.as_view(), name="auth-user"),
    path("users/<str:user_id>/activate", views.UserActivateView.as_view(), name="auth-user-activate"),
    path("roles", views.RoleListView.as_view(), name="auth-roles"),
    path("roles/<str:role_id>", views.RoleDetailView.as_view(), name="auth-role"),
    path("permissions", views.PermissionListView.as_view(), name="auth-permissions"),
]
