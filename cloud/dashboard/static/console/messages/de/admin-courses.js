// admin-courses pages (de).
export default {};
