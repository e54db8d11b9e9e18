"""noarkpack: closed patient journals to Noark 5 v5.0 extracts and deposit packages."""
__version__ = "0.1.0"
