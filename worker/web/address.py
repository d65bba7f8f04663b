"""Where the memory page listens and the role it connects as: light constants, so that `customer-memory serve`
and `demo` can name them without importing the server's stack (uvicorn, starlette, ...), which every other command,
the worker included, would otherwise pay for at start."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SERVER_ROLE = "authenticator"  # a role with no privilege of its own, which can only become the signed-in shopper
