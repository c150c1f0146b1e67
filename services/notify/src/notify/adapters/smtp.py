"""E-mail delivery over SMTP (stdlib smtplib)."""

from __future__ import annotations

import random
import smtplib
import socket
import time
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Callable

from notify.adapters.retry import Attempt, with_retries
from notify.domain.delivery import DeliveryOutcome, OutboundMessage, RetryPolicy


class SmtpSender:
    """Sends plain-text mail; 5xx replies are permanent, 4xx and network errors are retried."""

    channel = "email"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8025,
        from_addr: str = "Casestream <notify@casestream.example>",
        policy: RetryPolicy = RetryPolicy(),
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.host, self.port, self.from_addr = host, port, from_addr
        self.policy, self.timeout_s = policy, timeout_s
        self._sleep, self._uniform = sleep, uniform

    def build(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.from_addr
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.message_id}@casestream.notify>"
        mail["Date"] = format_datetime(message.time)
        mail["X-Casestream-Case"] = message.case_id
        mail["X-Casestream-Rule"] = message.rule_id
        mail.set_content(message.body)
        return mail

    def _attempt(self, mail: EmailMessage) -> Attempt:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(mail)
            return Attempt(ok=True)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return Attempt(False, f"smtp_recipient_refused {codes}", retryable=all(c < 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            return Attempt(False, f"smtp_{exc.smtp_code}", retryable=exc.smtp_code < 500)
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            return Attempt(False, f"smtp_unavailable: {type(exc).__name__}")

    def send(self, message: OutboundMessage) -> DeliveryOutcome:
        mail = self.build(message)
        return with_retries(lambda: self._attempt(mail), self.policy, self._sleep, self._uniform)
