// TrackHAR on one HAR, whole process: read, parse, analyse; prints the count of tracked requests.
import { readFileSync } from 'node:fs';
import { process as analyse } from 'trackhar';

const har = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const result = await analyse(har);
console.log(result.filter((r) => r).length);
