"""SMS drivers: how a code reaches a phone (`log` for development, `webhook` for a gateway)."""
from app.common.sms.driver import SmsDriver, SmsSendError, make_sms_driver

__all__ = ["SmsDriver", "SmsSendError", "make_sms_driver"]
