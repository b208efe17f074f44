// SPDX-License-Identifier: MIT
/*
 * Debian's Chromium, headless, through playwright-core, with the flags that
 * work on this machine (no sandbox, no GPU, nothing fetched in the
 * background), in a fresh profile removed afterwards: the launch that
 * inspect.js and inspect_html.js share.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.HEAPTRACE_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--no-first-run',
];

/* fn(context) in a browser launched for it; closed whatever fn does. */
async function withChromium(timeout, fn) {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'heaptrace-chromium-'));
	let context = null;

	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: FLAGS,
			timeout: 30000,
		});
		context.setDefaultTimeout(timeout);
		return await fn(context);
	} finally {
		if (context)
			await context.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
}

module.exports = { withChromium };
