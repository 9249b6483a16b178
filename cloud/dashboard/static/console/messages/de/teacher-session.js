// teacher-session pages (de).
export default {};
