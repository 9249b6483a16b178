// warnings pages (de).
export default {};
