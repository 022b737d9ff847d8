"""Middleware aliases, as ThinkPHP's middleware.php: routes name them, this map says which class."""

ALIAS = {
    # Checks the token of a logged-in user (ThinkPHP doc: 'checkLogin' => CheckApiLogin::class).
    "checkLogin": "middleware.check_api_login.CheckApiLogin",
}
