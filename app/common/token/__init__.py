"""Token drivers of the Auth service: md5 (opaque, ThinkPHP doc) and jwt (Hyperf doc)."""
