"""Discord protocol pieces. Import submodules directly; this package imports nothing heavy,
so the scheduler needs no PyNaCl and the API needs no aiohttp until it asks for them."""
