import { downloadOperation } from './download';

export const downloadHeatmap = downloadOperation('heatmap');
