"""The staff console: the room's web pages for warehouse staff, served by the daemon itself.

Archive rooms sit on networks without internet access, and the desk PC or tablet at the
counter has nothing installed but a browser. So every page, script, style and translation
comes from this package: server-rendered templates (``templates/``), a few small ES modules
(``static/``) that call the same REST API as any other client, and the message catalogues
(``messages/``). The console holds no state of its own and no privileges beyond the staff
token the person logs in with.
"""
