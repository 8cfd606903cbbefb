print("excerpt")
