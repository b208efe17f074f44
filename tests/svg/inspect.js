#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * Open heaptrace's SVG flame graphs in Debian's headless Chromium (through
 * playwright-core), use them as a person would and print what the page
 * shows as JSON on stdout. tests/formats_it.c makes the assertions.
 *
 *   node inspect.js --shots DIR [--click NAME]... [--search TERM] FILE.svg...
 *
 * For each file, in one fresh browser profile:
 *   frames     every g.frame: data-name/-o/-v/-d, <title>, label, the
 *              rect's x/y/width, its classes and whether it is displayed
 *   hover      #details after moving the mouse over the widest non-root frame
 *   zoom       after clicking the frame named NAME (the first --click
 *              name the file has a frame of), and whether "Reset Zoom" is
 *              then displayed
 *   reset      after clicking "Reset Zoom"
 *   escape     after zooming again and pressing Escape
 *   search     after Search, answering the prompt with TERM: the frames
 *              with class "match" and the #matched text
 *   errors     script errors and console errors of the page
 *   shot, zoom_shot   screenshots DIR/BASENAME.png, DIR/BASENAME.zoom.png
 *
 * Exit status: 0 when every file was inspected (whatever it showed),
 * 1 when the browser could not be driven (message on stderr).
 */
'use strict';

const path = require('path');
const { pathToFileURL } = require('url');
const { withChromium } = require('./chromium');

function usage() {
	process.stderr.write('usage: inspect.js --shots DIR [--click NAME]... [--search TERM] ' +
		'FILE.svg...\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { shots: null, clicks: [], search: null, files: [] };

	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];

		if (a === '--shots' || a === '--click' || a === '--search') {
			if (i + 1 >= argv.length)
				usage();
			if (a === '--click')
				o.clicks.push(argv[++i]);
			else
				o[a.slice(2)] = argv[++i];
		} else if (a.startsWith('--')) {
			usage();
		} else {
			o.files.push(a);
		}
	}
	if (!o.shots || !o.files.length)
		usage();
	return o;
}

/* Runs in the page: the state of every frame. */
function snapshotFrames() {
	const num = (el, attr) => parseFloat(el.getAttribute(attr));
	const unzoom = document.getElementById('unzoom');

	return {
		unzoom_visible: !!unzoom && getComputedStyle(unzoom).display !== 'none',
		frames: Array.from(document.querySelectorAll('g.frame')).map((g) => {
			const r = g.querySelector('rect');
			const t = g.querySelector('text');
			const title = g.querySelector('title');

			return {
				name: g.getAttribute('data-name'),
				o: Number(g.getAttribute('data-o')),
				v: Number(g.getAttribute('data-v')),
				d: Number(g.getAttribute('data-d')),
				title: title ? title.textContent : null,
				label: t ? t.textContent : null,
				x: r ? num(r, 'x') : null,
				y: r ? num(r, 'y') : null,
				width: r ? num(r, 'width') : null,
				fill: r ? getComputedStyle(r).fill : null,
				classes: Array.from(g.classList),
				displayed: getComputedStyle(g).display !== 'none' &&
					!!r && r.getBoundingClientRect().width > 0,
			};
		}),
	};
}

async function inspect(context, file, opts) {
	const page = await context.newPage();
	const errors = [];
	const base = path.basename(file, '.svg');
	const out = { file, errors };

	page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error')
			errors.push('console: ' + m.text());
	});
	await page.setViewportSize({ width: 1200, height: 800 });
	await page.goto(pathToFileURL(path.resolve(file)).href);

	const doc = await page.evaluate(() => {
		const svg = document.documentElement;
		const text = (id) => {
			const e = document.getElementById(id);
			return e ? e.textContent : null;
		};

		return {
			root: svg.localName,
			metric: svg.getAttribute('data-metric'),
			width: parseFloat(svg.getAttribute('width')),
			height: parseFloat(svg.getAttribute('height')),
			title: text('title'),
			subtitle: text('subtitle'),
			scripts: document.querySelectorAll('script').length,
		};
	});
	Object.assign(out, doc);
	if (doc.width > 0 && doc.height > 0)
		await page.setViewportSize({ width: Math.ceil(doc.width), height: Math.ceil(doc.height) });

	out.frames = (await page.evaluate(snapshotFrames)).frames;
	out.shot = path.join(opts.shots, base + '.png');
	await page.screenshot({ path: out.shot });

	/* Hover the widest frame that is not the root: #details shows its title. */
	let widest = -1;
	out.frames.forEach((f, i) => {
		if (f.d > 0 && (widest < 0 || f.v > out.frames[widest].v))
			widest = i;
	});
	if (widest >= 0) {
		await page.locator('g.frame').nth(widest).hover();
		out.hover = {
			name: out.frames[widest].name,
			details: await page.evaluate(() => document.getElementById('details').textContent),
		};
	}

	const click = opts.clicks.find((n) => out.frames.some((f) => f.name === n));
	const target = click ? out.frames.findIndex((f) => f.name === click) : -1;
	if (target >= 0) {
		const frame = page.locator('g.frame').nth(target);

		await frame.click();
		out.zoom = { name: click, ...(await page.evaluate(snapshotFrames)) };
		out.zoom_shot = path.join(opts.shots, base + '.zoom.png');
		await page.screenshot({ path: out.zoom_shot });

		await page.locator('#unzoom').click();
		out.reset = await page.evaluate(snapshotFrames);

		await frame.click();
		await page.keyboard.press('Escape');
		out.escape = await page.evaluate(snapshotFrames);
	}

	if (opts.search !== null) {
		page.once('dialog', (d) => d.accept(opts.search));
		await page.locator('#search').click();
		/* The dialog is answered asynchronously; wait for its effect. */
		await page.waitForFunction(() => document.getElementById('matched').textContent !== '',
			null, { timeout: 5000 }).catch(() => {});
		out.search = await page.evaluate(() => ({
			matched: document.getElementById('matched').textContent,
			matches: Array.from(document.querySelectorAll('g.frame.match'))
				.map((g) => g.getAttribute('data-name')),
		}));
	}
	await page.close();
	return out;
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const results = await withChromium(async (context) => {
		const r = [];

		context.setDefaultTimeout(10000);
		for (const f of opts.files)
			r.push(await inspect(context, f, opts));
		return r;
	});

	process.stdout.write(JSON.stringify(results, null, 1) + '\n');
}

main().catch((e) => {
	process.stderr.write('inspect.js: ' + (e && e.stack ? e.stack : e) + '\n');
	process.exit(1);
});
