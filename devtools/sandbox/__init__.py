"""The sandbox: the bot in a Discord-like page, served by the Discord stand-in at its root
(``make run`` prints the address). A channel that shows what the bot sends as it happens, a
composer that takes slash commands as Discord's client does, buttons, menus, forms and files,
a switch for who is typing, and an inspector of what went back and forth.

    routes.py     the page's HTTP side on the stand-in: state, live events, what the user does
    payloads.py   from what the user did to the interaction Discord's client would send
    static/       the page itself: HTML, CSS and JavaScript modules, no build step, offline

Development only: nothing here is in the production images or the deployed stack.
"""

from devtools.sandbox.routes import Sandbox, Scheduler

__all__ = ["Sandbox", "Scheduler"]
