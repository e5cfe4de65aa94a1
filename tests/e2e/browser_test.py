#!/usr/bin/env python3
"""Headless Chromium against the real nunchi binary: sign in, search a customer, open the
profile, add a note, import a CSV with a bad row and read its report, answer a survey, work
a conversation, and chat between a visitor's widget and an agent's tab through a network
that drops; screenshots of each step go to target/e2e/. Also validates the served OpenAPI
document with openapi-spec-validator. Starts the server on a free loopback port and stops
it by its pid."""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import json
import threading
import urllib.request

from openapi_spec_validator import validate as validate_openapi

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "e2e-admin-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"nunchi exited early with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("nunchi did not become ready")


class Cuttable:
    """A TCP relay on loopback that the test can cut as a dropped network would: every open
    connection is closed at once and new ones are refused until it is restored."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.open = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        self.down = True
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.open = []

    def restore(self):
        self.down = False


def chat_through_a_dropping_network(driver, wait, url, data, shot):
    """A visitor chats from a page's widget while an agent answers in another tab; the
    network drops for a few seconds while both write; afterwards both sides hold every
    message once, in the same order."""
    relay = Cuttable(int(url.rsplit(":", 1)[1]))
    base = f"http://127.0.0.1:{relay.port}"
    page = os.path.join(data, "chat.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(f'<!doctype html><meta charset="utf-8"><title>shop</title><h1>가게</h1>'
                f'<script src="{base}/widget.js" data-chat="on" data-lang="ko"></script>')
    driver.switch_to.new_window("tab")
    visitor_tab = driver.current_window_handle
    driver.get("file://" + page)
    wait.until(EC.element_to_be_clickable((By.ID, "nunchi-chat-launcher"))).click()
    state = lambda el_id: driver.find_element(By.ID, el_id).get_attribute("data-state")
    wait.until(lambda d: state("nunchi-chat-state") == "live")
    stamp = int(time.time())
    opening = f"주문 확인 부탁드려요 {stamp}"

    def visitor_says(text):
        box = driver.find_element(By.ID, "nunchi-chat-input")
        box.send_keys(text)
        driver.find_element(By.ID, "nunchi-chat-send").click()

    visitor_says(opening)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#nunchi-chat-lines li[data-seq]"))

    driver.switch_to.new_window("tab")
    agent_tab = driver.current_window_handle
    driver.get(f"{base}/inbox?status=all&q={stamp}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#inbox-list tbody tr td a"))).click()
    wait.until(lambda d: state("thread-live") == "live")
    assert opening in driver.find_element(By.ID, "thread").text

    def agent_says(text):
        driver.find_element(By.ID, "composer-text").send_keys(text)
        driver.find_element(By.CSS_SELECTOR, "#composer button[value=reply]").click()

    agent_says("확인해 드릴게요")
    driver.switch_to.window(visitor_tab)
    wait.until(EC.text_to_be_present_in_element((By.ID, "nunchi-chat-lines"), "확인해 드릴게요"))

    # The network drops; both keep writing; it comes back.
    relay.cut()
    wait.until(lambda d: state("nunchi-chat-state") == "reconnecting")
    visitor_says("연결이 끊겼나요? 1")
    driver.switch_to.window(agent_tab)
    wait.until(lambda d: state("thread-live") == "reconnecting")
    agent_says("끊긴 동안 보낸 답변")
    driver.switch_to.window(visitor_tab)
    visitor_says("끊긴 동안 두 번째 2")
    time.sleep(3)
    relay.restore()

    sent = {opening, "확인해 드릴게요", "연결이 끊겼나요? 1", "끊긴 동안 보낸 답변", "끊긴 동안 두 번째 2"}

    def held(css, text_css):
        items = driver.find_elements(By.CSS_SELECTOR, css)
        return [(int(i.get_attribute("data-seq")), i.find_element(By.CSS_SELECTOR, text_css).text) for i in items]

    def settled(css, text_css, pending_css):
        def check(d):
            view = held(css, text_css)
            return view if len(view) >= len(sent) and not d.find_elements(By.CSS_SELECTOR, pending_css) else False
        return check

    visitor_view = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        settled("#nunchi-chat-lines li[data-seq]", ".nunchi-chat-text", "#nunchi-chat-lines li[data-client]"))
    shot("chat-visitor")
    driver.switch_to.window(agent_tab)
    agent_view = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        settled("#thread li.msg-incoming[data-seq], #thread li.msg-outgoing[data-seq]", ".body", "#thread li.msg-pending"))
    shot("chat-agent")
    texts = [t for _, t in visitor_view]
    assert sorted(texts) == sorted(sent), f"every message once on the visitor's side: {visitor_view}"
    assert [s for s, _ in visitor_view] == sorted(s for s, _ in visitor_view), f"in order: {visitor_view}"
    assert agent_view == visitor_view, f"both sides hold the same thread: {agent_view} vs {visitor_view}"
    driver.close()
    driver.switch_to.window(visitor_tab)
    driver.close()


def navigate(driver, wait, group: str, link: str) -> None:
    """Opens a group of the grouped navigation by its name, then follows one of its links."""
    driver.find_element(By.XPATH, f"//nav//summary[normalize-space()='{group}']").click()
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, link))).click()


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", "--lang=ko-KR"]:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="nunchi-chromium-"))
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--backend", default="sqlite")
    ap.add_argument("--database-url")
    args = ap.parse_args()

    shots = os.path.join(os.path.dirname(os.path.abspath(args.binary)), "..", "e2e")
    os.makedirs(shots, exist_ok=True)
    data = tempfile.mkdtemp(prefix="nunchi-e2e-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, NUNCHI_ADMIN_PASSWORD=PASSWORD, NUNCHI_DATA_DIR=data, NUNCHI_LISTEN=f"127.0.0.1:{port}")
    if args.database_url:
        env["NUNCHI_DATABASE_URL"] = args.database_url
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen([args.binary, "serve", "--demo-if-empty", "--demo-customers", "400"], env=env, stdout=log, stderr=subprocess.STDOUT)
    driver = None
    try:
        wait_ready(url, server)
        # The served OpenAPI document passes a real validator, not just our own checks.
        with urllib.request.urlopen(url + "/api/openapi.json", timeout=10) as r:
            spec = json.load(r)
        validate_openapi(spec)
        assert spec["openapi"].startswith("3.1"), spec["openapi"]
        driver = browser()
        # A page that navigates while a condition reads it can make Chromium answer with an
        # inspector error instead of a stale element: both mean "look again".
        wait = WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,))
        shot = lambda name: driver.save_screenshot(os.path.join(shots, f"{args.backend}-{name}.png"))

        # Sign in.
        driver.get(url + "/signin")
        driver.find_element(By.ID, "email").send_keys("admin@nunchi.local")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".stats")))
        assert "400" in driver.find_element(By.CSS_SELECTOR, ".stats").text, "the dashboard counts the demo customers"
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar"), "the dashboard draws its charts"
        # Every chart offers itself as a file; the SVG carries its colours with it.
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        links = driver.find_elements(By.CSS_SELECTOR, "p.chart-export a")
        assert len(links) == 2 * len(charts) and links[0].text == "SVG로 저장", [l.text for l in links]
        exported = driver.execute_script("return standalone(document.querySelector('svg.chart rect.bar').closest('svg'))")
        assert exported.startswith("<svg") and "fill:rgb(" in exported, exported[:300]
        shot("dashboard")

        # Search a Korean name prefix from the customer list.
        navigate(driver, wait, "이해", "고객")
        box = wait.until(EC.presence_of_element_located((By.NAME, "q")))
        box.send_keys("김")
        box.submit()
        # The list before the search has the same rows: wait for the new page first.
        wait.until(EC.url_contains("q="))
        first = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.list tbody tr td a")))
        name = first.text
        assert name.startswith("김"), f"search for 김 gave {name!r}"
        shot("search")

        # Open the profile and add a note.
        first.click()
        wait.until(EC.presence_of_element_located((By.ID, "note-body")))
        assert name in driver.find_element(By.TAG_NAME, "h1").text
        note = f"브라우저 테스트 메모 {int(time.time())}"
        driver.find_element(By.ID, "note-body").send_keys(note)
        driver.find_element(By.CSS_SELECTOR, "#notes button[type=submit]").click()
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.notes"), note))
        assert note in driver.find_element(By.ID, "timeline").text, "the note is on the timeline"
        assert driver.find_element(By.ID, "value").text, "the profile shows the customer's value card"
        shot("profile")

        # The customer value page draws the RFM grid from the demo's orders.
        navigate(driver, wait, "이해", "고객 가치")
        grid = wait.until(EC.presence_of_element_located((By.ID, "rfm-grid")))
        assert sum(int(td.text.replace(",", "") or 0) for td in grid.find_elements(By.CSS_SELECTOR, "tbody td")) > 0
        shot("customer-value")

        # Segments: the demo's are listed; the builder counts who matches as a rule is typed.
        navigate(driver, wait, "이해", "세그먼트")
        assert "VIP" in wait.until(EC.presence_of_element_located((By.ID, "segment-list"))).text
        rule = driver.find_element(By.ID, "segment-rule")
        rule.clear()
        rule.send_keys('{"type": "tag", "tag": "vip"}')
        live = driver.find_element(By.ID, "segment-live")
        wait.until(lambda d: "“vip”" in live.text)
        assert "/ " in live.text and "명이 지금 해당합니다" in live.text, live.text
        # The form shows the typed rule as a row and adds a condition picked from lists.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#segment-builder .builder-row")) == 1)
        driver.find_element(By.XPATH, "//div[@id='segment-builder']//button[normalize-space()='조건 추가']").click()
        rows = driver.find_elements(By.CSS_SELECTOR, "#segment-builder .builder-row")
        assert len(rows) == 2, len(rows)
        Select(rows[1].find_element(By.TAG_NAME, "select")).select_by_value("rfm")
        wait.until(lambda d: '"rfm"' in d.find_element(By.ID, "segment-rule").get_attribute("value"))
        wait.until(lambda d: "RFM" in live.text and "“vip”" in live.text)
        assert not driver.find_element(By.XPATH, "//div[@id='segment-builder']/p[contains(., 'JSON')]").is_displayed()
        shot("segments")

        # Personas: the demo's three, each page with its segment's data beside the story.
        navigate(driver, wait, "이해", "페르소나")
        cards = wait.until(EC.presence_of_element_located((By.ID, "persona-list")))
        assert "지현" in cards.text and "민수" in cards.text, cards.text
        driver.find_element(By.XPATH, "//div[@id='persona-list']//a[contains(., '지현')]").click()
        truth = wait.until(EC.presence_of_element_located((By.ID, "persona-truth")))
        assert "찐팬" in truth.text, truth.text
        assert driver.find_element(By.ID, "persona-size").text, "the persona shows its segment's size"
        shot("persona")

        # Campaigns: the demo's drafts; the Teachers' Day one shows what launching would do
        # (who receives it, who is suppressed and why) and previews a customer's message.
        navigate(driver, wait, "실행", "캠페인")
        listed = wait.until(EC.presence_of_element_located((By.ID, "campaign-list")))
        assert "스승의 날" in listed.text and "장바구니" in listed.text, listed.text
        driver.find_element(By.XPATH, "//table[@id='campaign-list']//a[contains(., '스승의 날')]").click()
        impact = wait.until(EC.presence_of_element_located((By.ID, "campaign-impact")))
        assert "명이 받고" in impact.text, impact.text
        assert "매년 5월 15일" in driver.find_element(By.ID, "campaign-summary").text
        shot("campaign")
        driver.get(url + "/contact-policy")
        caps = wait.until(EC.presence_of_element_located((By.ID, "policy-caps")))
        assert driver.find_element(By.ID, "policy-korean").is_selected(), "Korean law is on by default"
        shot("contact-policy")

        # Import a CSV with one bad row and read the report.
        csv_path = os.path.join(data, "upload.csv")
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write("external_id,name,email\nE2E-1,브라우저 고객,e2e@example.com\nE2E-2,잘못된 행,not-an-email\n")
        driver.get(url + "/import")
        driver.find_element(By.ID, "file").send_keys(csv_path)
        driver.find_element(By.CSS_SELECTOR, "form[action='/import'] button[type=submit]").click()
        WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(EC.text_to_be_present_in_element_attribute((By.ID, "job-status"), "data-status", "done"))
        status = driver.find_element(By.ID, "job-status")
        assert status.text == "완료 (일부 행 거부)", "the outcome is shown in Korean: " + status.text
        assert status.get_attribute("data-outcome") == "completed_with_errors"
        assert driver.find_element(By.ID, "rejected").text == "1"
        row = driver.find_element(By.CSS_SELECTOR, "#row-errors tbody tr").text
        assert row.startswith("3") and "email" in row, row
        shot("import-report")
        # Voice of the Customer: the demo's scores, then an NPS survey built in the UI and
        # answered through its public link joins the live feed without a reload and moves
        # the NPS (its response count and its trend chart) afterwards.
        navigate(driver, wait, "듣기", "고객의 소리")
        wait.until(EC.presence_of_element_located((By.ID, "voc-feed")))
        # A fixed range, so that the answer given now and the demo's are counted together.
        driver.get(url + "/voc?from=2020-01-01&to=2100-01-01")
        feed = wait.until(EC.presence_of_element_located((By.ID, "voc-feed")))
        assert feed.find_elements(By.TAG_NAME, "li"), "the demo's feedback is listed"
        nps_card = lambda: driver.find_elements(By.CSS_SELECTOR, ".score-card")[0].text
        before = nps_card()
        assert "응답" in before, before
        chart_before = driver.find_element(By.CSS_SELECTOR, "svg.chart").get_attribute("outerHTML")
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart circle.dot"), "the NPS trend is drawn"
        wait.until(lambda d: d.find_element(By.ID, "voc-live").get_attribute("data-state") == "live")
        assert driver.find_element(By.ID, "voc-live").text == "● 실시간", "the connected state is shown"
        items_before = len(feed.find_elements(By.TAG_NAME, "li"))
        voc_tab = driver.current_window_handle

        # Build and launch the survey in a second tab.
        driver.switch_to.new_window("tab")
        driver.get(url + "/surveys")
        driver.find_element(By.ID, "survey-name").send_keys("브라우저 NPS 설문")
        driver.find_element(By.CSS_SELECTOR, "#new-survey button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "survey-launch"))).click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "survey-status"), "진행 중"))
        link = driver.find_element(By.ID, "survey-link").get_attribute("href")
        shot("survey-builder")

        # Answer it as a customer would: the public link, no sign-in, on a 390×844 phone:
        # no step scrolls sideways and the 0–10 scale stays on one row
        # (the_public_survey_fits_a_phone).
        driver.set_window_size(390, 844)

        def fits_a_phone(step):
            width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert width <= inner, f"the survey's {step} step scrolls sideways on a phone: {width} > {inner}"

        driver.get(link + "?lang=ko")
        wait.until(EC.presence_of_element_located((By.ID, "question-text")))
        fits_a_phone("NPS")
        rows = driver.execute_script(
            "return [...document.querySelectorAll('.survey-point')].map(e => Math.round(e.getBoundingClientRect().top))")
        assert len(rows) == 11 and len(set(rows)) == 1, f"0–10 wraps on a phone: {rows}"
        driver.find_element(By.CSS_SELECTOR, "#answer-10 + span").click()
        driver.find_element(By.ID, "survey-next").click()
        reason = f"브라우저 설문 답변 {int(time.time())}: 배송이 빨라서 좋았어요"
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "textarea[name=answer]"))).send_keys(reason)
        fits_a_phone("text")
        shot("survey-answer-phone")
        driver.find_element(By.ID, "survey-next").click()
        wait.until(EC.presence_of_element_located((By.ID, "survey-done")))
        fits_a_phone("thank-you")
        driver.set_window_size(1280, 900)

        # The widget on another site (a file:// page) shows the same survey and takes an answer.
        page = os.path.join(data, "shop.html")
        key = link.rstrip("/").split("/")[-1]
        with open(page, "w", encoding="utf-8") as f:
            f.write(f'<!doctype html><meta charset="utf-8"><title>shop</title><h1>가게</h1>'
                    f'<script src="{url}/widget.js" data-survey="{key}" data-lang="ko" data-on="load"></script>')
        driver.get("file://" + page)
        widget = wait.until(EC.presence_of_element_located((By.ID, "nunchi-survey")))
        widget.find_element(By.CSS_SELECTOR, "button[data-value='9']").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#nunchi-survey textarea")))
        widget.find_element(By.XPATH, ".//button[text()='건너뛰기']").click()
        wait.until(EC.presence_of_element_located((By.ID, "nunchi-thanks")))
        shot("survey-widget")

        driver.close()
        driver.switch_to.window(voc_tab)
        wait.until(lambda d: len(d.find_element(By.ID, "voc-feed").find_elements(By.TAG_NAME, "li")) >= items_before + 2)
        shot("voc-live")
        driver.refresh()
        after = wait.until(lambda d: nps_card() if nps_card() != before else False)
        count = lambda text: int(text.split("응답")[0].split()[-1].replace(",", ""))
        assert count(after) == count(before) + 2, (before, after)
        assert driver.find_element(By.CSS_SELECTOR, "svg.chart").get_attribute("outerHTML") != chart_before, "the NPS chart moved"
        wait.until(EC.text_to_be_present_in_element((By.ID, "voc-feed"), reason))

        # The support desk: the demo's late-delivery conversations, a note and a resolution,
        # each shown in Korean on the thread.
        navigate(driver, wait, "듣기", "상담함")
        wait.until(EC.presence_of_element_located((By.ID, "inbox-tabs")))
        driver.get(url + "/inbox?status=all")
        row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#inbox-list tbody tr td a")))
        assert driver.find_element(By.ID, "inbox-tabs").text.count("열림") >= 1
        row.click()
        wait.until(EC.presence_of_element_located((By.ID, "thread")))
        assert driver.find_elements(By.CSS_SELECTOR, "#thread li.msg-incoming"), "the customer's message is shown"
        assert driver.find_element(By.ID, "customer-panel").text, "the customer panel is beside the thread"
        memo = f"브라우저 내부 메모 {int(time.time())}"
        driver.find_element(By.ID, "composer-text").send_keys(memo)
        driver.find_element(By.CSS_SELECTOR, "#composer button[value=note]").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "thread"), memo))
        status = Select(driver.find_element(By.ID, "conv-status-select"))
        target, label = ("open", "열림") if status.first_selected_option.get_attribute("value") == "resolved" else ("resolved", "해결됨")
        status.select_by_value(target)
        driver.find_element(By.CSS_SELECTOR, "#conv-state button.primary").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "thread"), "상태 변경: " + label))
        assert driver.find_element(By.ID, "conv-status").text == label
        shot("conversation")
        first_tab = driver.current_window_handle
        chat_through_a_dropping_network(driver, wait, url, data, shot)
        driver.switch_to.window(first_tab)
        print(f"browser test passed on {args.backend}; screenshots in {os.path.abspath(shots)}")
        return 0
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
