'use strict';
// One simulator and the engine for a test file, and a short way to run the node against them.
const { startSimulator, DEFAULT_KEY } = require('../simulator');
const { getEngine } = require('./engine');

/**
 * @param {object} [simOptions] options for the simulator (timing, secureUrls, keys, ...)
 * @returns the context: { sim, engine, credentials, run(parameters, items?, extra?) }
 */
function useSimulator(simOptions) {
	const ctx = {};
	beforeAll(async () => {
		ctx.sim = await startSimulator(simOptions);
		ctx.engine = await getEngine();
		ctx.credentials = { apiKey: DEFAULT_KEY, baseUrl: ctx.sim.apiUrl, storageBaseUrl: ctx.sim.storageUrl };
	});
	afterAll(async () => {
		await ctx.sim.close();
	});
	afterEach(() => {
		ctx.sim.faults.reset();
	});
	ctx.run = (parameters, items, extra = {}) =>
		ctx.engine.run({ ...extra, parameters, items, credentials: extra.credentials ?? ctx.credentials });
	return ctx;
}

/** An input item holding one image in binary property `data` (or `prop`). */
function imageItem(bytes, fileName, mimeType, prop = 'data') {
	return { json: { fileName }, binary: { [prop]: { bytes, fileName, mimeType } } };
}

module.exports = { useSimulator, imageItem, DEFAULT_KEY };
