DROP TABLE IF EXISTS strata_data_keys;
