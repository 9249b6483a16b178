// admin-gateways pages (de).
export default {};
