DROP TABLE IF EXISTS strata_keys.strata_data_keys;
