// Tests through n8n's engine, several topics to a file (see engine-detect.test.js for why): cancel takes real
// waiting, with little CPU, so these share a file with the next longest topic that waits.
describe('no billed result is lost, and cancel means stop', () => {
	require('./engine/deadlines');
});
describe('Download Heatmap and Download Preview', () => {
	require('./engine/downloads');
});
