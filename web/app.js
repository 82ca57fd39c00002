/* dropscope web view: placeholder until the views land. */
