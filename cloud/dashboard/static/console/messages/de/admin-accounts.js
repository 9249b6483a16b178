// admin-accounts pages (de).
export default {};
