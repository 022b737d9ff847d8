"""Middleware aliases, as ThinkPHP's middleware.php: routes name them, this map says which class."""

ALIAS = {
    # Checks the token of a logged-in user (ThinkPHP doc: 'checkLogin' => CheckApiLogin::class).
    "checkLogin": "middleware.check_api_login.CheckApiLogin",
    # Checks that the user's roles grant the route's permission; place it after checkLogin.
    "checkPermission": "middleware.check_permission.CheckPermission",
}
