// Example integers that a JavaScript number would round reach this page as BigInts
// (xtask/src/docs/exact_integers.rs); Redoc's two serializers of example values learn them here.
(() => {
  // JSON.stringify (the example panels and their "Copy" buttons) asks a BigInt for toJSON; raw
  // JSON writes its digits as a number. Browsers without JSON.rawJSON (before 2025) get the
  // digits as a string: exact, though quoted.
  const raw = typeof JSON.rawJSON === "function" ? (digits) => JSON.rawJSON(digits) : (digits) => digits;
  Object.defineProperty(BigInt.prototype, "toJSON", {
    value() {
      return raw(this.toString());
    },
    writable: true,
    configurable: true,
  });
  // The YAML writer of the page's "Copy" action writes a value as an integer, value.toString(10),
  // when Number.isInteger accepts it, and refuses the document otherwise.
  const isIntegerNumber = Number.isInteger;
  Object.defineProperty(Number, "isInteger", {
    value: (value) => typeof value === "bigint" || isIntegerNumber(value),
    writable: true,
    configurable: true,
  });
})();
