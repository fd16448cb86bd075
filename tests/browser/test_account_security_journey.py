"""Issue 15's "sessions end" in real Chromium, on a phone: an enterprise finds 账号安全 from the header, is told
beside the field when its current password is wrong, changes it, and then
signs out of every device after confirming. The page fits the 390 px screen at each step."""
import pytest

from .conftest import PASSWORD, fits_the_phone, screenshot, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "battery-staple-77"


def test_an_enterprise_changes_its_password_and_signs_out_everywhere_on_a_phone(live_server, phone, enterprise):
    sign_in(phone, live_server, enterprise)
    phone.goto(live_server + "/auth/password")
    assert fits_the_phone(phone)
    phone.fill("[name=current_password]", "not-my-password")
    phone.fill("[name=password]", NEW_PASSWORD)
    phone.fill("[name=confirm]", NEW_PASSWORD)
    phone.click("button:has-text('修改密码')")
    phone.wait_for_selector("text=当前密码不正确")
    assert fits_the_phone(phone)
    screenshot(phone, "password-change-wrong-current-390")

    phone.fill("[name=current_password]", PASSWORD)
    phone.fill("[name=password]", NEW_PASSWORD)
    phone.fill("[name=confirm]", NEW_PASSWORD)
    phone.click("button:has-text('修改密码')")
    phone.wait_for_selector(".flash")
    assert fits_the_phone(phone)

    phone.goto(live_server + "/auth/password")
    phone.click("summary:has-text('退出所有设备')")
    assert fits_the_phone(phone)
    phone.click("button:has-text('确认退出所有设备')")
    phone.goto(live_server + "/me")
    phone.wait_for_url("**/auth/login**")
