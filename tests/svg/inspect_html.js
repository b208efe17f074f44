#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * Open heaptrace's HTML report in Debian's headless Chromium (through
 * playwright-core, launched by chromium.js), use it as a person
 * would and print what the page shows as JSON on stdout.
 * tests/formats_it.c makes the assertions.
 *
 *   node inspect_html.js --shots DIR [--search TERM] [--sort TABLE:COLUMN] FILE.html
 *
 * Prints one object:
 *   load_ms    from navigation to the page's data-ready mark (parse, script, layout)
 *   requests   every request the page made (URL)
 *   errors     script errors and console errors
 *   summary    the summary's dd elements: data-key -> data-v
 *   peak_label the chart's peak label: text and data-v
 *   chart      window.heaptraceChart (t, total, bands: name, live), the
 *              path.band elements' data-band, whether the total line is there
 *   flame      per metric (chosen in the select): every displayed
 *              g.frame's name, value, depth, code; #flame-note
 *   search     after typing TERM into the search box: the names of the
 *              frames marked "match" and the #matched text
 *   tables     per table: its column keys and rows (data-stack, each
 *              cell's data-v) in page order, its footer
 *   sorted     after clicking TABLE's COLUMN header once and twice: that
 *              column's data-v in row order, the header's class, and
 *              clicked_stack: the lines shown under the table after
 *              clicking the first row then
 *   shot       the screenshot DIR/BASENAME.png (the whole page)
 *
 * Exit status: 0 when the page was inspected (whatever it showed), 1 when
 * the browser could not be driven (message on stderr).
 */
'use strict';

const path = require('path');
const { pathToFileURL } = require('url');
const { withChromium } = require('./chromium');

const METRICS = ['live_bytes', 'peak_bytes', 'alloc_bytes', 'allocs'];

function usage() {
	process.stderr.write('usage: inspect_html.js --shots DIR [--search TERM] ' +
		'[--sort TABLE:COLUMN] FILE.html\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { shots: null, search: null, sort: null, file: null };

	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];

		if (a === '--shots' || a === '--search' || a === '--sort') {
			if (i + 1 >= argv.length)
				usage();
			o[a.slice(2)] = argv[++i];
		} else if (a.startsWith('--') || o.file) {
			usage();
		} else {
			o.file = a;
		}
	}
	if (!o.shots || !o.file)
		usage();
	return o;
}

/* Runs in the page: the displayed flame graph frames. */
function snapshotFlame() {
	return {
		note: document.getElementById('flame-note').textContent,
		frames: Array.from(document.querySelectorAll('#flame g.frame'))
			.filter((g) => getComputedStyle(g).display !== 'none')
			.map((g) => ({
				name: g.getAttribute('data-name'),
				v: Number(g.getAttribute('data-v')),
				d: Number(g.getAttribute('data-d')),
				code: g.getAttribute('data-code'),
				width: Number(g.querySelector('rect').getAttribute('width')),
				match: g.classList.contains('match'),
			})),
	};
}

/* Runs in the page: every table's columns and rows in page order. */
function snapshotTables() {
	const out = {};

	document.querySelectorAll('#tables table').forEach((t) => {
		out[t.id.replace(/^table-/, '')] = {
			columns: Array.from(t.querySelectorAll('thead th'))
				.map((th) => th.getAttribute('data-col')),
			rows: Array.from(t.tBodies[0].rows).map((tr) => ({
				stack: Number(tr.getAttribute('data-stack')),
				cells: Array.from(tr.cells).map((td) => td.getAttribute('data-v')),
			})),
			footer: t.tFoot ? t.tFoot.textContent : null,
		};
	});
	return out;
}

async function sortColumn(page, table, column) {
	const th = page.locator(`#table-${table} thead th[data-col="${column}"]`);
	const values = () => page.evaluate(([t, c]) => {
		const tb = document.getElementById('table-' + t);
		const col = Array.from(tb.querySelectorAll('thead th'))
			.findIndex((h) => h.getAttribute('data-col') === c);

		return Array.from(tb.tBodies[0].rows).map((tr) => tr.cells[col].getAttribute('data-v'));
	}, [table, column]);
	const out = { table, column };

	await th.click();
	out.first = await values();
	out.first_class = await th.getAttribute('class');
	await th.click();
	out.second = await values();
	out.second_class = await th.getAttribute('class');
	/* the first row's whole stack, shown under the table on a click */
	await page.locator(`#table-${table} tbody tr`).first().locator('td.fn').click();
	out.clicked_stack = (await page.textContent(`#stack-${table}`)).split('\n');
	return out;
}

/* Runs in the page: the summary, the warnings and the chart. */
function snapshotPage() {
	const summary = {};
	const label = document.getElementById('peak-label');

	document.querySelectorAll('#numbers dd').forEach((dd) => {
		summary[dd.getAttribute('data-key')] = dd.getAttribute('data-v');
	});
	return {
		title: document.getElementById('title').textContent,
		summary,
		warnings: Array.from(document.querySelectorAll('#warnings div')).map((d) => d.textContent),
		peak_label: label ? { text: label.textContent, v: label.getAttribute('data-v') } : null,
		chart: Object.assign({}, window.heaptraceChart, {
			paths: Array.from(document.querySelectorAll('#chart path.band'))
				.map((p) => p.getAttribute('data-band')),
			total_line: !!document.getElementById('total'),
		}),
	};
}

async function inspect(context, opts) {
	const page = await context.newPage();
	const out = { file: opts.file, errors: [], requests: [] };

	page.on('pageerror', (e) => out.errors.push('pageerror: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error')
			out.errors.push('console: ' + m.text());
	});
	page.on('request', (r) => out.requests.push(r.url()));
	await page.setViewportSize({ width: 1240, height: 900 });
	const t0 = Date.now();
	await page.goto(pathToFileURL(path.resolve(opts.file)).href);
	await page.waitForFunction(() => document.body &&
		document.body.getAttribute('data-ready') === '1');
	out.load_ms = Date.now() - t0;

	Object.assign(out, await page.evaluate(snapshotPage));
	out.shot = path.join(opts.shots, path.basename(opts.file, '.html') + '.png');
	await page.screenshot({ path: out.shot, fullPage: true });

	out.flame = {};
	for (const m of METRICS) {
		await page.selectOption('#metric', m);
		out.flame[m] = await page.evaluate(snapshotFlame);
	}
	if (opts.search !== null) {
		await page.fill('#search', opts.search);
		out.search = await page.evaluate(() => ({
			matched: document.getElementById('matched').textContent,
			matches: Array.from(document.querySelectorAll('#flame g.frame.match'))
				.map((g) => g.getAttribute('data-name')),
		}));
	}
	out.tables = await page.evaluate(snapshotTables);
	if (opts.sort) {
		const [table, column] = opts.sort.split(':');

		out.sorted = await sortColumn(page, table, column);
	}
	await page.close();
	return out;
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const out = await withChromium((context) => {
		context.setDefaultTimeout(30000);
		return inspect(context, opts);
	});

	process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
	process.stderr.write('inspect_html.js: ' + (e && e.stack ? e.stack : e) + '\n');
	process.exit(1);
});
