#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * Open the web UI of a running `go tool pprof -http` in Debian's headless
 * Chromium (chromium.js) and print what its Source and Top views show as
 * JSON on stdout. tests/formats_it.c makes the assertions.
 *
 *   node pprof_ui.js --shots DIR --url http://HOST:PORT --fn REGEXP [--si INDEX]
 *
 *   source   /ui/source?f=REGEXP: per listed function (h2) its name, its
 *            file (p.filename) and every source line: number, flat, cum
 *            and text as the page shows them
 *   top      /ui/top: the rows of the table as shown (flat, cum, name,
 *            inlined label), in the page's order
 *   each     url, HTTP status, page title, script and console errors,
 *            failed requests, responses of status 400 or more;
 *            screenshots DIR/source.png, DIR/top.png
 *
 * Both views use the sample index INDEX (si=) and unit=B.
 * Exit status: 0 when both views were read (whatever they showed), 1 when
 * the browser could not be driven (message on stderr).
 */
'use strict';

const path = require('path');
const { withChromium } = require('./chromium');

function usage() {
	process.stderr.write('usage: pprof_ui.js --shots DIR --url URL --fn REGEXP [--si INDEX]\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { shots: null, url: null, fn: null, si: null };

	for (let i = 0; i < argv.length; i += 2) {
		const key = argv[i].replace(/^--/, '');

		if (!argv[i].startsWith('--') || !(key in o) || i + 1 >= argv.length)
			usage();
		o[key] = argv[i + 1];
	}
	if (!o.shots || !o.url || !o.fn)
		usage();
	return o;
}

/* Runs in the page: the functions of a weblist (Source) page. */
function readSource() {
	const content = document.getElementById('content');
	const fns = [];

	if (!content)
		return { content: null, functions: fns };
	for (const h2 of content.querySelectorAll('h2')) {
		const file = h2.nextElementSibling;
		const pre = file ? file.nextElementSibling : null;
		const lines = [];

		if (pre && pre.localName === 'pre') {
			for (const num of pre.querySelectorAll(':scope > span.line')) {
				const src = num.nextElementSibling;
				const m = /^\s*(\S+)\s+(\S+)\s(.*)$/s.exec(src ? src.textContent : '');

				lines.push({
					line: parseInt(num.textContent, 10),
					flat: m ? m[1] : null,
					cum: m ? m[2] : null,
					text: m ? m[3].trim() : null,
				});
			}
		}
		fns.push({
			name: h2.textContent,
			file: file && file.classList.contains('filename') ? file.textContent : null,
			lines,
		});
	}
	return { content: content.textContent.trim().length, functions: fns };
}

/* Runs in the page: the rows of the Top table. */
function readTop() {
	const rows = Array.from(document.querySelectorAll('#rows > tr')).map((tr) => {
		const td = Array.from(tr.querySelectorAll('td')).map((c) => c.textContent);

		return { flat: td[0], cum: td[3], name: td[5], inlined: td[6] };
	});

	return { rows };
}

async function view(context, url, shot, reader) {
	const page = await context.newPage();
	const out = { url, errors: [], failed: [], bad_responses: [] };

	page.on('pageerror', (e) => out.errors.push('pageerror: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error')
			out.errors.push('console: ' + m.text() + ' at ' + m.location().url);
	});
	page.on('requestfailed', (r) => out.failed.push(r.url()));
	page.on('response', (r) => {
		if (r.status() >= 400)
			out.bad_responses.push(r.status() + ' ' + r.url());
	});
	await page.setViewportSize({ width: 1400, height: 900 });
	const resp = await page.goto(url, { waitUntil: 'load' });
	out.status = resp ? resp.status() : null;
	out.title = await page.title();
	Object.assign(out, await page.evaluate(reader));
	out.shot = shot;
	await page.screenshot({ path: shot, fullPage: true });
	await page.close();
	return out;
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	const query = (extra) => {
		const q = new URLSearchParams(extra);

		if (o.si)
			q.set('si', o.si);
		q.set('unit', 'B');
		return q.toString();
	};
	const views = await withChromium(async (context) => {
		context.setDefaultTimeout(20000);
		/* Chromium asks for /favicon.ico; pprof redirects it to its Graph
		 * view, which answers 501 without Graphviz: not the pages' fault. */
		await context.route('**/favicon.ico', (r) => r.fulfill({ status: 204, body: '' }));
		return {
			source: await view(context, o.url + '/ui/source?' + query({ f: o.fn }),
				path.join(o.shots, 'source.png'), readSource),
			top: await view(context, o.url + '/ui/top?' + query({}),
				path.join(o.shots, 'top.png'), readTop),
		};
	});

	process.stdout.write(JSON.stringify(views, null, 1) + '\n');
}

main().catch((e) => {
	process.stderr.write('pprof_ui.js: ' + (e && e.stack ? e.stack : e) + '\n');
	process.exit(1);
});
