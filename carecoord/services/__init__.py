"""Domain logic, one module per area. Takes a Session, returns models or plain data.

Services never import Typer or Rich and never print, so another front end can reuse them.
"""
