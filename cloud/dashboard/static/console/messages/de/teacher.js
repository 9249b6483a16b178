// teacher pages (de).
export default {};
