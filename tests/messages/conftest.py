"""A real SMTP server in the test process, and the portal pointed at it."""

import socket
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the SMTP server received: (sender, recipients, raw message bytes)."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.inbox.received


@contextmanager
def mail_settings(app, **values):
    """Change the mail settings of the session's app for one test."""
    state = app.extensions["mailman"]
    before = {name: getattr(state, name) for name in values}
    for name, value in values.items():
        setattr(state, name, value)
    try:
        yield state
    finally:
        for name, value in before.items():
            setattr(state, name, value)


@pytest.fixture
def smtp_server(app):
    """A running SMTP server on a free port that the portal sends to."""
    server = SmtpServer()
    server.start()
    with mail_settings(app, backend="smtp", server="127.0.0.1", port=server.port, timeout=5):
        yield server
    server.stop()


@pytest.fixture
def smtp_down(app):
    """The portal pointed at a port where no SMTP server listens."""
    with mail_settings(app, backend="smtp", server="127.0.0.1", port=free_port(), timeout=2):
        yield


@pytest.fixture
def mail_outbox(app):
    """The messages the locmem backend took, emptied for the test."""
    state = app.extensions["mailman"]
    state.outbox = []
    return state.outbox
