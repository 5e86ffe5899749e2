// Tests through n8n's engine, several topics to a file (see engine-detect.test.js for why).
describe('faults', () => {
	require('./engine/faults');
});
