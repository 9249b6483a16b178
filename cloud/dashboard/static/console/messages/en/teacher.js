// teacher pages (en).
export default {};
