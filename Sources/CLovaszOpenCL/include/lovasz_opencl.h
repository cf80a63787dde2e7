int lovasz_cl_placeholder(void);
