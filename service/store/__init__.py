"""Redis: the embedded server, the client, key names, Lua loading, typing and pipelining helpers."""
