public enum LovaszTestSupportPlaceholder {}
