// SPDX-License-Identifier: MIT
/*
 * Debian's headless Chromium driven through playwright-core, launched the
 * same way for every test script here: /usr/bin/chromium (or
 * $HEAPTRACE_CHROMIUM), no sandbox, no GPU, no network of its own, in a
 * fresh browser profile that is removed afterwards.
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

/* fn(context) in a browser of its own; its result. */
async function withChromium(fn) {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'heaptrace-chromium-'));
	let context = null;

	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: FLAGS,
			timeout: 30000,
		});
		return await fn(context);
	} finally {
		if (context)
			await context.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
}

module.exports = { withChromium };
