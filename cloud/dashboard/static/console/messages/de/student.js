// student pages (de).
export default {};
