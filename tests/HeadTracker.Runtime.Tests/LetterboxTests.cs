using System;
using HeadTracking.Runtime.Preprocessing;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public class LetterboxTests
{
    private const int Size = 64;

    /// <summary>Value of input pixel (x, y), channel R, of an interleaved [0, 1] input.</summary>
    private static float R(float[] input, int x, int y) => input[((y * Size) + x) * 3];

    /// <summary>A 640x480 black frame with a white 20x20 square whose top-left is (400, 100).</summary>
    private static Mat Frame()
    {
        var frame = new Mat(480, 640, MatType.CV_8UC3, Scalar.Black);
        frame.Rectangle(new Rect(400, 100, 20, 20), Scalar.White, -1);
        return frame;
    }

    [Fact]
    public void A_crop_puts_the_region_in_the_input_maps_back_to_frame_pixels_and_pads_beyond_the_frame()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];

        // An 80-pixel square centred on the white square: scale 64/80, the square fills the middle.
        box.RunCrop(frame, 410, 110, 80, input);
        Assert.Equal(0.8f, box.ScaleX, 5);
        Assert.Equal(1f, R(input, 32, 32), 2);
        Assert.Equal(0f, R(input, 4, 4), 2);
        Assert.Equal(410f, box.ToFrameX(32), 3);
        Assert.Equal(110f, box.ToFrameY(32), 3);

        // A crop hanging over the frame's top-left corner: black there, the frame's pixels elsewhere.
        frame.Rectangle(new Rect(0, 0, 10, 10), Scalar.White, -1);
        box.RunCrop(frame, 0, 0, 64, input);
        Assert.Equal(0f, R(input, 10, 10), 2); // beyond the frame
        Assert.Equal(1f, R(input, 36, 36), 2); // frame pixel (4, 4)
        Assert.Equal(4f, box.ToFrameX(36), 3);

        // The whole-frame letterbox after a crop: padding black again, the mapping its own.
        box.Run(frame, input);
        Assert.Equal(0.1f, box.ScaleX, 5);
        Assert.Equal(8f, box.PadY, 3); // 640x480 into 64x64: 48 rows, 8 above and below
        Assert.Equal(0f, R(input, 40, 2), 2);
        Assert.Equal(1f, R(input, 41, 19), 2); // the square at (410, 110) lands at (41, 19)
    }

    [Theory]
    [InlineData(640, 480, 128, 128, false)] // the default model: 5x on both axes
    [InlineData(1280, 720, 128, 128, true)] // 10x, planar
    [InlineData(333, 251, 128, 96, false)] // odd sizes, a non-integer shrink
    [InlineData(100, 300, 64, 64, true)] // portrait: padded left and right
    [InlineData(129, 97, 128, 96, false)] // barely shrunk: every output pixel straddles two
    public void A_whole_frame_shrink_matches_OpenCVs_area_resize_to_half_a_grey_level(int frameWidth, int frameHeight, int width, int height, bool planar)
    {
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        using var box = new Letterbox(width, height, 1f / 255, mean, std, planar);
        // Noise plus gradients: every pixel differs, and a row and a column of the frame are cut
        // off by a sub-matrix so rows are not contiguous.
        using var big = new Mat(frameHeight + 1, frameWidth + 1, MatType.CV_8UC3);
        Cv2.Randu(big, Scalar.All(0), Scalar.All(256));
        using Mat frame = big[new Rect(1, 0, frameWidth, frameHeight)];
        var values = new float[width * height * 3];
        values.AsSpan().Fill(float.NaN);
        box.Run(frame, values);

        int w = (int)Math.Round(frameWidth * box.ScaleX), h = (int)Math.Round(frameHeight * box.ScaleY);
        int left = (int)box.PadX, top = (int)box.PadY;
        using var reference = new Mat();
        Cv2.Resize(frame, reference, new Size(w, h), 0, 0, InterpolationFlags.Area);
        double worst = 0, sum = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bool inside = x >= left && x < left + w && y >= top && y < top + h;
                Vec3b bgr = inside ? reference.At<Vec3b>(y - top, x - left) : default;
                for (int c = 0; c < 3; c++)
                {
                    float expected = ((bgr[2 - c] / 255f) - mean[c]) / std[c];
                    float got = planar ? values[(c * width * height) + (y * width) + x] : values[(((y * width) + x) * 3) + c];
                    double grey = Math.Abs(got - expected) * std[c] * 255; // in grey levels
                    Assert.False(double.IsNaN(got), $"({x}, {y}) channel {c} not written");
                    worst = Math.Max(worst, grey);
                    sum += grey;
                }
            }
        }

        // OpenCV rounds each output to a whole grey level; we keep the fraction.
        Assert.True(worst <= 0.501, $"worst difference {worst:F3} grey levels");
        Assert.True(sum / (width * height * 3) < 0.3, $"mean difference {sum / (width * height * 3):F3} grey levels");
    }

    [Fact]
    public void Crops_that_move_every_frame_allocate_nothing()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];
        box.RunCrop(frame, 300, 200, 100, input);
        box.Run(frame, input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            box.RunCrop(frame, 300 + i, 200 - i, 100 + i, input);
            if (i % 50 == 0)
            {
                box.Run(frame, input);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_crop_that_is_not_a_region_is_refused()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];
        Assert.Throws<ArgumentException>(() => box.RunCrop(frame, float.NaN, 0, 80, input));
        Assert.Throws<ArgumentException>(() => box.RunCrop(frame, 10, 10, 0, input));
    }
}
