"""OGI Archive: crawler (Scrapy project), parsers and the `ogi` command line."""
