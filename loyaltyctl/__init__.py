"""loyaltyctl: run a customer loyalty program from a terminal."""

__version__ = "0.1.0"
