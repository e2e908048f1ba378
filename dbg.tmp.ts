console.log('start');
const m = await import('./testing/hostile.js');
console.log('hostile loaded');
console.log([...m.hostileCorpus().keys()]);
