// teacher-records pages (de).
export default {};
