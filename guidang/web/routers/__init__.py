"""One router per area of the web app; listed in :data:`guidang.web.app.ROUTERS`."""
