// Tests through n8n's engine, several topics to a file (see engine-detect.test.js for why): these take seconds of
// real waiting, with little CPU, so they have a file of their own.
describe('every wait ends', () => {
	require('./engine/timeouts');
});
