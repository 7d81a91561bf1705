#!/usr/bin/env python3
"""Load a self-contained HTML report in headless Chromium and describe it.

Usage:
    python3 tests/browser/check_page.py PAGE.html SCREENSHOT.png [--width 1400]

Drives Debian's /usr/bin/chromium (or $CHROMIUM) directly over the Chrome
DevTools Protocol with the `websocket-client` package, so the tests need no
browser download (as Playwright/Puppeteer would) and no node. Prints one JSON
object (title, headings, charts, tables, console errors, network requests,
scroll height) on stdout and writes a full-page PNG screenshot. Exits 0 when
the page could be checked, whatever it contains: the Rust test judges. Exits
non-zero with a one-line message on stderr if Chromium or the page failed.
"""

import argparse
import base64
import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

TOTAL_TIMEOUT = 60
PORT_TIMEOUT = 20
LOAD_TIMEOUT = 30
SETTLE = 0.5
MAX_HEIGHT = 16000

# Numbers in a polyline's points or a path's d, halved: coordinate pairs.
DESCRIBE_JS = r"""(() => {
  const num = /-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;
  const pairs = (e, a) =>
    Math.floor(((e.getAttribute(a) || '').match(num) || []).length / 2);
  const text = e => (e ? e.textContent.trim().replace(/\s+/g, ' ') : null);
  const all = (root, sel) => [...root.querySelectorAll(sel)];
  const charts = all(document, 'figure[data-chart]').map(f => {
    const box = f.getBoundingClientRect();
    const elements = {};
    for (const tag of ['polyline', 'path', 'rect', 'circle', 'text'])
      elements[tag] = all(f, 'svg ' + tag).length;
    let points = 0;
    for (const [tag, attr] of [['polyline', 'points'], ['path', 'd']])
      for (const e of all(f, 'svg ' + tag)) points += pairs(e, attr);
    return {name: f.dataset.chart, width: box.width, height: box.height,
            svgs: all(f, 'svg').length, elements, points,
            caption: text(f.querySelector('figcaption'))};
  });
  return {
    title: document.title,
    headings: all(document, 'h2').map(text),
    charts,
    tables: all(document, 'table').map(t => (
      {id: t.id || null, class: t.className || null, rows: t.rows.length})),
    scroll_height: document.documentElement.scrollHeight,
  };
})()"""


class CheckError(Exception):
    """The page could not be checked (Chromium, DevTools or load failure)."""


def on_signal(signum, frame):
    if signum == signal.SIGALRM:
        raise CheckError(f'timed out after {TOTAL_TIMEOUT} s')
    raise CheckError(f'stopped by {signal.Signals(signum).name}')


class Cdp:
    """A minimal DevTools client: commands by id, events kept in a list."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=LOAD_TIMEOUT,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def pump(self, until, timeout):
        """Read messages, keeping events, until `until(msg)`; else None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return None
            if 'method' in msg:
                self.events.append(msg)
            if until(msg):
                return msg
        return None

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({'id': self.next_id, 'method': method,
                                 'params': params}))
        msg = self.pump(lambda m: m.get('id') == self.next_id, LOAD_TIMEOUT)
        if msg is None or 'error' in msg:
            why = msg['error'] if msg else 'no answer'
            raise CheckError(f'{method}: {why}')
        return msg.get('result', {})


def start_chromium(tmp, width):
    """Start Chromium; return it, its DevToolsActivePort file and its log."""
    binary = os.environ.get('CHROMIUM', '/usr/bin/chromium')
    profile, log_path = os.path.join(tmp, 'profile'), os.path.join(tmp, 'log')
    args = [binary, '--headless', '--no-sandbox', '--disable-gpu',
            '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--disable-default-apps',
            '--remote-debugging-port=0', f'--user-data-dir={profile}',
            f'--window-size={width},1000', 'about:blank']
    with open(log_path, 'wb') as log:
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=log, start_new_session=True)
        except OSError as err:
            raise CheckError(f'cannot start {binary}: {err}') from err
    return proc, os.path.join(profile, 'DevToolsActivePort'), log_path


def page_target(proc, port_file, log_path):
    """Wait for the DevTools port; return the websocket URL of a page."""
    deadline = time.monotonic() + PORT_TIMEOUT
    port = ''
    while not port:
        if proc.poll() is not None:
            with open(log_path, errors='replace') as f:
                lines = [line.strip() for line in f if line.strip()] or ['']
            raise CheckError(f'chromium exited ({proc.returncode}): '
                             + lines[-1])
        if time.monotonic() > deadline:
            raise CheckError(f'no DevToolsActivePort after {PORT_TIMEOUT} s')
        time.sleep(0.1)
        with contextlib.suppress(OSError):
            with open(port_file) as f:
                port = f.readline().strip()
    base = f'http://127.0.0.1:{port}/json'
    with urllib.request.urlopen(base, timeout=10) as resp:
        pages = [t for t in json.load(resp) if t.get('type') == 'page']
    if not pages:
        req = urllib.request.Request(base + '/new?about:blank', method='PUT')
        with urllib.request.urlopen(req, timeout=10) as resp:
            pages = [json.load(resp)]
    return pages[0]['webSocketDebuggerUrl']


def problems(events):
    """Console errors/warnings, exceptions and error log entries, as text."""
    out = []
    for ev in events:
        method, p = ev['method'], ev.get('params', {})
        if (method == 'Runtime.consoleAPICalled'
                and p.get('type') in ('error', 'warning', 'assert')):
            args = [str(a.get('value', a.get('description', '')))
                    for a in p.get('args', [])]
            out.append(f"console.{p['type']}: {' '.join(args)}")
        elif method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            desc = d.get('exception', {}).get('description') or d.get('text')
            out.append(f'exception: {desc}')
        elif method == 'Log.entryAdded' and p['entry'].get('level') == 'error':
            e = p['entry']
            out.append(f"log: {e.get('text')} {e.get('url', '')}".strip())
    return out


def check(page, shot, width, tmp):
    proc, port_file, log_path = start_chromium(tmp, width)
    cdp = None
    try:
        cdp = Cdp(page_target(proc, port_file, log_path))
        for domain in ('Runtime', 'Log', 'Network', 'Page'):
            cdp.call(domain + '.enable')
        nav = cdp.call('Page.navigate', url=pathlib.Path(page).as_uri())
        if nav.get('errorText'):
            raise CheckError(f"navigation failed: {nav['errorText']}")
        if not cdp.pump(lambda m: m.get('method') == 'Page.loadEventFired',
                        LOAD_TIMEOUT):
            raise CheckError(f'no load event after {LOAD_TIMEOUT} s')
        cdp.pump(lambda m: False, SETTLE)  # late console messages, requests
        res = cdp.call('Runtime.evaluate', expression=DESCRIBE_JS,
                       returnByValue=True)
        if 'exceptionDetails' in res:
            raise CheckError(f"describe failed: {res['exceptionDetails']}")
        info = res['result']['value']
        height = max(1, min(info['scroll_height'], MAX_HEIGHT))
        cdp.call('Emulation.setDeviceMetricsOverride', width=width,
                 height=height, deviceScaleFactor=1, mobile=False)
        clip = {'x': 0, 'y': 0, 'width': width, 'height': height, 'scale': 1}
        png = cdp.call('Page.captureScreenshot', format='png', clip=clip,
                       captureBeyondViewport=True)['data']
        with open(shot, 'wb') as f:
            f.write(base64.b64decode(png))
        info['console_errors'] = problems(cdp.events)
        info['requests'] = [ev['params']['request']['url']
                            for ev in cdp.events
                            if ev['method'] == 'Network.requestWillBeSent']
        return info
    finally:
        stop_chromium(proc, cdp)


def stop_chromium(proc, cdp):
    """Close Chromium politely (it then reaps its children), then kill."""
    if cdp:
        with contextlib.suppress(Exception):
            cdp.ws.send(json.dumps({'id': 0, 'method': 'Browser.close'}))
            proc.wait(timeout=3)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('page')
    parser.add_argument('screenshot')
    parser.add_argument('--width', type=int, default=1400)
    args = parser.parse_args()
    page = os.path.abspath(args.page)
    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(TOTAL_TIMEOUT)
    tmp = tempfile.mkdtemp(prefix='check_page_')
    try:
        if not os.path.isfile(page):
            raise CheckError(f'no such page: {page}')
        info = check(page, os.path.abspath(args.screenshot), args.width, tmp)
    except Exception as err:  # one line on stderr, whatever went wrong
        kind = '' if isinstance(err, CheckError) else type(err).__name__ + ': '
        print('check_page: ' + kind + ' '.join(str(err).split()),
              file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        shutil.rmtree(tmp, ignore_errors=True)
    keys = ('title', 'headings', 'charts', 'tables', 'console_errors',
            'requests', 'scroll_height')
    print(json.dumps({k: info[k] for k in keys}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
