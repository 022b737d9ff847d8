"""Every API route (ThinkPHP doc: Route::post('/:ver/login', ':ver.Login/login')).

Paths match case-insensitively; a path without a version is served as DEFAULT_VERSION.
"""
from app.common.route import Route

# ThinkPHP document
Route.post("/<ver>/login", "<ver>.Login/login")
Route.post("/<ver>/test", "<ver>.Login/test").middleware("checkLogin")
