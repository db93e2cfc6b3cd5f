"""The web console in headless Chromium against a real `tollgate serve`, a real SQLite file and a real PBX
connection. The tests run in order and share one story: the administrator sets up billing, a billing user takes
over, a call is placed, metered, hung up and shows in the call log, the statistics and the downloads."""
import datetime
import io
import os
import re
import time
from decimal import Decimal

import openpyxl
import pytest
import requests
from axe_selenium_python import Axe
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import ADMIN_PASSWORD

state = {}
HOSTILE = "<img src=x onerror=alert(1)>"


def go(browser, server, path):
    browser.get(server.base + path)
    assert_no_alert(browser)


def assert_no_alert(browser):
    try:
        text = browser.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f"a script ran: alert({text!r})")


def text(browser, selector):
    return browser.find_element(By.CSS_SELECTOR, selector).text


def flash(browser):
    return text(browser, ".flash")


def fill(browser, field_id, value):
    element = browser.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def gone(element):
    """Whether a page's element is no longer in the browser's document (Chromium reports that in two ways)."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def click_and_wait(browser, element):
    """Clicks, then waits until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 10).until(lambda _: gone(page))
    assert_no_alert(browser)


def submit(browser, selector="main form button[type=submit]"):
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, selector))


def sign_in(browser, server, user, password):
    go(browser, server, "/login")
    fill(browser, "user", user)
    fill(browser, "password", password)
    submit(browser)


def sign_out(browser):
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))


def http(browser, server):
    """A plain HTTP client carrying the browser's cookies (downloads, double submits, forged requests)."""
    session = requests.Session()
    for cookie in browser.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    session.headers["Origin"] = server.base
    return session


def csrf(browser):
    return browser.find_element(By.NAME, "_csrf").get_attribute("value")


def audit(browser, server, shots, path, name):
    """axe-core finds no serious or critical problem, and the page is photographed at desktop and phone widths."""
    go(browser, server, path)
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[(n['target'], n.get('failureSummary')) for n in v['nodes']][:3]}"
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{path}: " + "; ".join(bad)
    for width, height in [(1280, 800), (390, 844)]:
        browser.set_window_size(width, height)
        go(browser, server, path)
        browser.save_screenshot(os.path.join(shots, f"{name}-{width}x{height}.png"))
    browser.set_window_size(1280, 800)


def money(value):
    return Decimal(re.sub(r"[^0-9.\-]", "", value))


def balance_of(browser, server, number):
    go(browser, server, f"/extensions?number={number}")
    row = browser.find_element(By.XPATH, f"//tr[td//label[normalize-space()='{number}']]")
    return money(row.find_element(By.CSS_SELECTOR, "td[data-label=Balance]").text)


def test_administrator_activates_billing_and_creates_a_billing_user(server, browser, shots):
    go(browser, server, "/extensions")
    assert browser.current_url.startswith(server.base + "/login")
    audit(browser, server, shots, "/login", "01-sign-in")
    sign_in(browser, server, "admin", "wrong-password-1")
    assert "wrong user name or password" in text(browser, ".problem")
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    assert browser.current_url == server.base + "/admin/billing"
    assert text(browser, "#billing-state") == "Off"
    assert text(browser, "#activated-at") == "Not activated yet"
    submit(browser, "#billing-switch")
    assert "Billing is on" in flash(browser)
    assert text(browser, "#billing-state") == "On"
    activated = datetime.datetime.strptime(text(browser, "#activated-at"), "%Y-%m-%d %H:%M:%S")
    expires = datetime.datetime.strptime(text(browser, "#expiry"), "%Y-%m-%d %H:%M:%S")
    assert (expires - activated).days == 30
    assert text(browser, "#licensed") == "No"
    audit(browser, server, shots, "/admin/billing", "02-billing-settings")

    # A forged license is refused with a clear message and changes nothing.
    forged = os.path.join(server.data, "forged.lic")
    with open(forged, "w") as f:
        f.write('{"deviceFingerprint":"00","licensee":"x","issuedAt":0,"signature":"AAAA"}')
    browser.find_element(By.ID, "license").send_keys(forged)
    submit(browser, "form[action='/admin/license'] button")
    assert "License refused" in text(browser, "#license-problem")
    go(browser, server, "/admin/billing")
    assert text(browser, "#licensed") == "No"
    source = http(browser, server).get(server.base + "/admin/license/source")
    assert source.status_code == 200 and "billing.ac" in source.headers["Content-Disposition"]

    go(browser, server, "/admin/users")
    submit(browser, "#create-user")
    name = text(browser, "#new-user")
    password = text(browser, "#new-password")
    assert re.fullmatch(r"bill-[a-z0-9]+", name) and len(password) >= 10
    audit(browser, server, shots, "/admin/users", "03-billing-manager")
    # Shown once: the list page does not show it again.
    assert password not in browser.page_source
    sign_out(browser)
    assert "Signed out" in flash(browser)

    sign_in(browser, server, name, password)
    assert browser.current_url == server.base + "/extensions"
    go(browser, server, "/account/password")
    audit(browser, server, shots, "/account/password", "04-change-password")
    fill(browser, "currentPassword", "not-the-password")
    fill(browser, "newPassword", "a-new-password-1")
    submit(browser)
    assert "wrong" in text(browser, "#currentPassword-error")
    fill(browser, "currentPassword", password)
    fill(browser, "newPassword", "a-new-password-1")
    submit(browser)
    assert browser.current_url.startswith(server.base + "/login")
    sign_in(browser, server, name, password)
    assert "wrong user name or password" in text(browser, ".problem")
    sign_in(browser, server, name, "a-new-password-1")
    assert browser.current_url == server.base + "/extensions"
    state["user"] = name
    state["password"] = "a-new-password-1"


def test_billing_user_enables_extensions_from_the_pbx_and_recharges_two_once(server, browser, shots, pbx):
    for number, user in [("2001", "Room 201"), ("2002", HOSTILE), ("2003", "Front desk")]:
        assert pbx.send(f"sync {number} {user}") == "ok"
    go(browser, server, "/extensions?billing=off")
    for number in ["2001", "2002", "2003"]:
        browser.find_element(By.ID, f"n-{number}").click()
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[formaction='/extensions/bulk']"))
    assert "/extensions/bulk" in browser.current_url
    audit_url = browser.current_url.replace(server.base, "")
    browser.find_element(By.ID, "setBilling").click()
    Select(browser.find_element(By.ID, "billing")).select_by_value("on")
    browser.find_element(By.ID, "setCredit").click()
    fill(browser, "credit", "1.50")
    submit(browser)
    results = browser.find_element(By.ID, "bulk-results").text
    assert results.count("changed") == 3 and "3 changed, 0 not changed" in browser.page_source
    audit(browser, server, shots, audit_url, "06-bulk-edit")
    go(browser, server, "/extensions?billing=on&number=200")
    assert text(browser, ".count").endswith("of 3")
    assert "1.50" in browser.find_element(By.XPATH, "//tr[td//label[normalize-space()='2002']]").text

    # The HTML user name synced by the PBX is text on the page, not markup.
    assert HOSTILE in browser.find_element(By.XPATH, "//tr[td//label[normalize-space()='2002']]").text
    assert not browser.find_elements(By.CSS_SELECTOR, "img[src=x]")
    assert "&lt;img src=x onerror=alert(1)&gt;" in browser.page_source
    audit(browser, server, shots, "/extensions", "05-extensions")

    go(browser, server, "/extensions?number=200")
    browser.find_element(By.ID, "n-2001").click()
    browser.find_element(By.ID, "n-2002").click()
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[formaction='/extensions/recharge']"))
    audit_recharge = browser.current_url.replace(server.base, "")
    fill(browser, "amount", "5.00")
    fill(browser, "note", "paid at the desk")
    # The exact form the browser is about to send, sent a second time below: a double submit.
    form = {e.get_attribute("name"): e.get_attribute("value")
            for e in browser.find_elements(By.CSS_SELECTOR, "form[action='/extensions/recharge'] input[type=hidden]")}
    submit(browser)
    assert "Recharged $5.00 to 2001, 2002" in flash(browser)
    again = http(browser, server).post(server.base + "/extensions/recharge",
                                       data={**form, "n": ["2001", "2002"], "amount": "5.00", "note": "paid at the desk"},
                                       allow_redirects=False)
    assert again.status_code == 303
    assert balance_of(browser, server, "2001") == Decimal("5.00")
    assert balance_of(browser, server, "2002") == Decimal("5.00")
    audit(browser, server, shots, audit_recharge, "07-recharge")
    # A recharge beyond the maximum is refused next to its field, and changes nothing.
    go(browser, server, "/extensions/recharge?n=2003")
    fill(browser, "amount", "1.2345678")
    submit(browser)
    assert "6 decimals" in text(browser, "#amount-error")
    assert balance_of(browser, server, "2003") == Decimal("0.00")
    go(browser, server, "/extensions/2003/edit")
    audit(browser, server, shots, "/extensions/2003/edit", "08-edit-extension")


def test_rates_added_imported_with_a_bad_line_then_a_good_one(server, browser, shots):
    now = datetime.datetime.now()
    start = (now - datetime.timedelta(hours=1)).strftime("%H:%M")
    end = (now + datetime.timedelta(hours=2)).strftime("%H:%M")
    go(browser, server, "/rates/new")
    fill(browser, "remarks", "Mobiles via 9")
    fill(browser, "prefix", "9")
    fill(browser, "numberLength", "12")
    fill(browser, "initialCost", "0.10")
    fill(browser, "initialTime", "0")
    fill(browser, "rate", "0.01")
    fill(browser, "unit", "1")
    for field, value in [("startTime", start), ("endTime", end)]:
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value)
    for number in ["2001", "2002", "2003"]:
        browser.find_element(By.CSS_SELECTOR, f"#picker input[value='{number}']").click()
    submit(browser)
    assert "Added rate" in flash(browser)
    row = browser.find_element(By.CSS_SELECTOR, "#rates tbody tr").text
    assert "Mobiles via 9" in row and "$0.10" in row and "12" in row and start in row
    assert browser.find_element(By.CSS_SELECTOR, "#rates tbody tr td[data-label=Extensions]").text == "3"
    audit(browser, server, shots, "/rates", "09-rates")
    audit(browser, server, shots, "/rates/new", "10-rate-form")

    exported = http(browser, server).get(server.base + "/rates/export").text
    go(browser, server, "/rates/import")
    bad = exported + ",true,landline,8,9,0,0,0.02,60,,,2001\r\n,maybe,broken,8,9,0,0,0.02,60,,,\r\n"
    fill(browser, "text", bad)
    submit(browser)
    assert "nothing was imported" in text(browser, "#import-problem")
    errors = browser.find_element(By.ID, "import-errors").text
    assert re.search(r"\b4\b", errors), errors
    go(browser, server, "/rates")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rates tbody tr")) == 1
    go(browser, server, "/rates/import")
    fill(browser, "text", exported + ",true,landline,8,9,0,0,0.02,60,,,2001\r\n")
    submit(browser)
    assert "merged" in flash(browser)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rates tbody tr")) == 2
    audit(browser, server, shots, "/rates/import", "11-rate-import")
    go(browser, server, "/rates/quote?extension=2001&number=912345678901&duration=95")
    assert text(browser, "#quote-cost") == "$1.05"
    audit(browser, server, shots, "/rates/quote?extension=2001&number=912345678901&duration=95", "12-rate-quote")


def test_a_live_call_grows_is_hung_up_and_billed(server, browser, shots, pbx):
    reply = pbx.send("call call-1 2001 912345678901")
    assert reply.startswith("allow"), reply
    assert pbx.send("answer call-1") == "ok"
    answered = time.time()
    go(browser, server, "/live")
    cost = lambda: money(browser.find_element(By.CSS_SELECTOR, "#live-calls tbody td[data-label='Running cost']").text)
    first = cost()
    # The table follows the server's events: the running cost grows without a reload.
    WebDriverWait(browser, 15).until(lambda _: cost() > first)
    assert text(browser, "#live-count") == "1"
    audit(browser, server, shots, "/live", "13-live-calls")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#live-calls a[data-hangup]"))
    assert "/hangup" in browser.current_url
    submit(browser, "#confirm-hangup")
    assert "Hang-up sent" in flash(browser)
    assert pbx.wait_push("hangup call-1").endswith("operator")
    billable = int((time.time() - answered) * 1000)
    settled = pbx.send(f"end call-1 {billable}")
    assert settled.startswith("settled"), settled
    cost_micros = int(settled.split()[1])
    expected = 100_000 + 10_000 * ((billable + 999) // 1000)
    assert cost_micros == expected
    state["cost"] = Decimal(cost_micros) / 1_000_000

    go(browser, server, "/calls?keyword=2001")
    row = browser.find_element(By.CSS_SELECTOR, "#call-log tbody tr").text
    assert "912345678901" in row and f"${state['cost']:.2f}" in row
    audit(browser, server, shots, "/calls", "14-call-log")
    xlsx = http(browser, server).get(server.base + "/calls/export?format=xlsx")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    header = [cell.value for cell in sheet[1]]
    costs = [Decimal(str(row[header.index("Cost")])) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sum(costs) == state["cost"]
    csv = http(browser, server).get(server.base + "/calls/export?format=csv")
    assert csv.status_code == 200 and "912345678901" in csv.text


def test_statistics_and_recharge_history(server, browser, shots):
    go(browser, server, "/statistics?period=day")
    assert text(browser, "#call-count") == "1"
    assert money(text(browser, "#total-cost")) == state["cost"]
    assert browser.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar")
    audit(browser, server, shots, "/statistics", "15-statistics")
    go(browser, server, "/recharges?keyword=200")
    rows = browser.find_elements(By.CSS_SELECTOR, "#recharge-history tbody tr")
    assert len(rows) == 2
    for row in rows:
        assert row.find_element(By.CSS_SELECTOR, "td[data-label='Pre-balance']").text == "$0.00"
        assert row.find_element(By.CSS_SELECTOR, "td[data-label='Post-balance']").text == "$5.00"
        assert row.find_element(By.CSS_SELECTOR, "td[data-label='Operator']").text == state["user"]
    assert HOSTILE in browser.find_element(By.ID, "recharge-history").text
    audit(browser, server, shots, "/recharges", "16-recharge-history")
    download = http(browser, server).get(server.base + "/recharges/export?format=xlsx&keyword=200")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    assert sheet.max_row == 3
    assert HOSTILE in [cell.value for cell in sheet["C"]]


def test_settings_are_saved_and_checked(server, browser, shots):
    go(browser, server, "/settings")
    fill(browser, "warningLeadSeconds", "99999")
    submit(browser)
    assert "3600" in text(browser, "#warningLeadSeconds-error")
    Select(browser.find_element(By.ID, "currency")).select_by_value("EUR")
    fill(browser, "warningLeadSeconds", "10")
    submit(browser)
    assert "Settings saved" in flash(browser)
    go(browser, server, "/extensions?number=2001")
    assert "€5.00" in browser.find_element(By.ID, "n-2001").find_element(By.XPATH, "./ancestor::tr").text
    audit(browser, server, shots, "/settings", "17-settings")


def test_forged_and_cross_role_requests_change_nothing(server, browser, shots):
    client = http(browser, server)
    go(browser, server, "/extensions/recharge?n=2003")
    token = csrf(browser)
    for data in [{"n": "2003", "amount": "1.00"}, {"n": "2003", "amount": "1.00", "_csrf": "forged"}]:
        refused = client.post(server.base + "/extensions/recharge", data=data, allow_redirects=False)
        assert refused.status_code == 403
    other_site = requests.post(server.base + "/extensions/recharge",
                               data={"n": "2003", "amount": "1.00", "_csrf": token},
                               cookies=client.cookies, headers={"Origin": "http://evil.example"}, allow_redirects=False)
    assert other_site.status_code == 403
    assert balance_of(browser, server, "2003") == Decimal("0.00")

    # A billing user gets no administrator page, and the administrator no billing page.
    assert client.get(server.base + "/admin/users", allow_redirects=False).status_code == 403
    audit(browser, server, shots, "/admin/users", "18-forbidden")

    # Cookie flags and headers.
    login = requests.post(server.base + "/login", data={"user": state["user"], "password": state["password"]},
                          headers={"Origin": server.base}, allow_redirects=False)
    cookie = login.headers["Set-Cookie"]
    assert "tg_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    page = requests.get(server.base + "/extensions", cookies=login.cookies)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "<script>" not in page.text and "onclick" not in page.text

    old = http(browser, server)
    sign_out(browser)
    assert old.get(server.base + "/extensions", allow_redirects=False).status_code == 303
    assert old.post(server.base + "/extensions/recharge", data={"n": "2003", "amount": "1.00", "_csrf": token},
                    allow_redirects=False).status_code == 401

    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    assert http(browser, server).get(server.base + "/extensions", allow_redirects=False).status_code == 403
    audit(browser, server, shots, "/rates/quote", "19-admin-on-billing-page")
    sign_out(browser)


def test_sign_in_is_throttled_with_its_message(server, browser):
    for _ in range(5):
        sign_in(browser, server, "admin", "wrong-password-x")
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    assert "too many failed sign-ins" in text(browser, ".problem")
