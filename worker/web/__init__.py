"""The shopper's memory page and its HTTP API (`customer-memory serve`): see worker/web/app.py."""
