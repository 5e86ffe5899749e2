import { downloadOperation } from './download';

export const downloadPreview = downloadOperation('preview');
