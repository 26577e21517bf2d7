-- 202_text_fold_collation: idl_fold, the collation the gateway's SQL lower-cases message text
-- with for searches beyond ASCII (a word with a non-ASCII character, every regex), so that
-- "überweisung" finds "ÜBERWEISUNG" whatever the database's own collation (initdb
-- --no-locale gives "C", which folds ASCII only). ICU's root locale, the same lower-casing
-- the live tail applies; where PostgreSQL was built without ICU, glibc's C.UTF-8 (Unicode
-- simple lower-casing). ASCII-only words use COLLATE "C", PostgreSQL's fast path.
-- docs/query-language.md (Case) and tests/query/conformance.
DO $$
BEGIN
    BEGIN
        CREATE COLLATION idl_fold (provider = icu, locale = 'und');
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR undefined_object THEN
        BEGIN
            CREATE COLLATION idl_fold (provider = libc, locale = 'C.UTF-8');
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'cannot create collation idl_fold: PostgreSQL has neither ICU nor the C.UTF-8 locale'
                USING HINT = 'install a PostgreSQL built with ICU (Debian, Ubuntu and the official images are)';
        END;
    END;
END
$$;
